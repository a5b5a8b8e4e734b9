# R's glm on the 5,000-unit NSW-CPS sample (nsw_cps_5000.csv, made by convert.R): the
# propensity-score logit that DRDID 1.0.7 fitted for the printed IPW and DR examples
# (glm(D ~ -1 + int.cov, family = "binomial"), default glm.control: epsilon 1e-8, maxit 25).
# Run from this folder: Rscript generate_glm.R
d <- read.csv("nsw_cps_5000.csv")
pre <- d[d$year == 1975, ]
pre <- pre[order(pre$id), ]
fit <- glm(experimental ~ age + educ + black + married + nodegree + hisp + re74,
           family = "binomial", data = pre)
out <- data.frame(term = names(coef(fit)), estimate = sprintf("%.17g", coef(fit)),
                  iterations = fit$iter, converged = fit$converged,
                  deviance = sprintf("%.17g", fit$deviance))
write.csv(out, "glm_nsw_cps.csv", row.names = FALSE, quote = FALSE)
writeLines(capture.output(sessionInfo()), "generate_glm_sessionInfo.txt")
