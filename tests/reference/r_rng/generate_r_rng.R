# Reference draws for botrygt_eval/did/honest/_rrng.py: R's default RNG (Mersenne-Twister,
# normals by inversion) and mvtnorm::rmvnorm (method "eigen"), as HonestDiD uses them.
# Run: Rscript generate_r_rng.R  (writes r_rng_draws.csv, r_rng_quantiles.csv)
f17 <- function(x) sprintf("%.17g", x)
set.seed(0); u <- runif(10)
set.seed(0); z <- rnorm(10)
set.seed(7); z7 <- rnorm(10)
S <- matrix(c(2, 0.5, 0.1, 0.5, 1, -0.3, 0.1, -0.3, 0.7), 3)
set.seed(0); mv <- mvtnorm::rmvnorm(4, sigma = S)
d <- data.frame(
  what = c(rep("runif_seed0", 10), rep("rnorm_seed0", 10), rep("rnorm_seed7", 10),
           rep(paste0("rmvnorm_seed0_col", 1:3), each = 4)),
  index = c(1:10, 1:10, 1:10, rep(1:4, 3)),
  value = f17(c(u, z, z7, as.vector(mv))))
write.csv(d, "r_rng_draws.csv", row.names = FALSE, quote = FALSE)
set.seed(0); x <- rnorm(1e6)
q <- data.frame(mu = c(0, 0.3, 2.5), p = 0.95,
                value = f17(sapply(c(0, 0.3, 2.5), function(m) quantile(abs(x + m), 0.95))))
write.csv(q, "r_rng_quantiles.csv", row.names = FALSE, quote = FALSE)
cat(R.version.string, "; mvtnorm", as.character(packageVersion("mvtnorm")), "\n")
