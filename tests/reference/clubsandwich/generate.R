# CR2 with Bell-McCaffrey / Satterthwaite df for a weighted two-way fixed-effects regression,
# under both of clubSandwich's working models for the weights:
#   inverse_var = FALSE (clubSandwich's default for weighted lm: the weights set the estimand,
#                        errors homoskedastic on the outcome scale; what estimatr's CR2 does)
#   inverse_var = TRUE  (the weights are inverse variances, e.g. group sizes of group means)
# Data: panel.csv (simulated, committed: 14 units x 6 periods, population weights).
# Run from this folder: Rscript generate.R   (R packages: clubSandwich, sandwich)
suppressPackageStartupMessages(library(clubSandwich))
d <- read.csv("panel.csv")
fit <- lm(y ~ treat + x + factor(unit) + factor(period), data = d, weights = pop)
rows <- list()
for (iv in c(FALSE, TRUE)) {
  V <- vcovCR(fit, cluster = d$unit, type = "CR2", inverse_var = iv)
  ct <- coef_test(fit, vcov = V, test = "Satterthwaite", coefs = c("treat", "x"))
  cov_tx <- as.matrix(V)["treat", "x"]
  rows[[length(rows) + 1]] <- data.frame(
    inverse_var = iv, term = ct$Coef, estimate = sprintf("%.15g", ct$beta),
    se = sprintf("%.15g", ct$SE), df = sprintf("%.15g", ct$df_Satt),
    p_value = sprintf("%.15g", ct$p_Satt), cov_treat_x = sprintf("%.15g", cov_tx))
  wt <- Wald_test(fit, constraints = constrain_zero(c("treat", "x")), vcov = V, test = "HTZ")
  rows[[length(rows) + 1]] <- data.frame(
    inverse_var = iv, term = "wald_HTZ_treat_x", estimate = sprintf("%.15g", wt$Fstat),
    se = NA, df = sprintf("%.15g", wt$df_denom), p_value = sprintf("%.15g", wt$p_val),
    cov_treat_x = NA)
}
write.csv(do.call(rbind, rows), "cr2_reference.csv", row.names = FALSE, na = "")
writeLines(capture.output(sessionInfo()), "sessionInfo.txt")
