"""Task metrics (top-k, MRR, R², MAE, RMSE, bootstrap intervals) and the Geo-Bias Score."""
