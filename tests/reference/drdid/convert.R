# Converts DRDID's shipped data sets (copied unchanged from the DRDID repository,
# data/nsw_long.rda and data/sim_rc.rda) to CSV for the Python tests, and draws the
# 5,000-unit NSW-CPS subsample (the rows the examples use) with R's own RNG exactly as DRDID's examples do:
#   eval_lalonde_cps <- subset(nsw_long, nsw_long$treated == 0 | nsw_long$sample == 2)
#   set.seed(123); unit_random <- sample(unique(eval_lalonde_cps$id), 5000)
# Run from this folder: Rscript convert.R  (base R only; DRDID is not needed)
load("nsw_long.rda")
load("sim_rc.rda")
eval_lalonde_cps <- subset(nsw_long, nsw_long$treated == 0 | nsw_long$sample == 2)
set.seed(123)
unit_random <- sample(unique(eval_lalonde_cps$id), 5000)
eval_lalonde_cps <- eval_lalonde_cps[eval_lalonde_cps$id %in% unit_random, ]
# 17 significant digits: the CSVs hold the same doubles as the .rda files
fmt <- function(df) {
  for (v in names(df)) if (is.double(df[[v]])) df[[v]] <- sprintf("%.17g", df[[v]])
  df
}
write.csv(fmt(eval_lalonde_cps), "nsw_cps_5000.csv", row.names = FALSE, na = "")
write.csv(fmt(sim_rc), "sim_rc.csv", row.names = FALSE, na = "")
writeLines(capture.output(sessionInfo()), "convert_sessionInfo.txt")
