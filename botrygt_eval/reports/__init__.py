"""The papermill reports: text catalogue, prepared inputs, tables and charts, rendering."""
