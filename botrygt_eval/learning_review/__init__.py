"""The learning review (Læringsopsamlingen): its figures reproduced from project-leader data."""
