"""The credit model: features, the scorecard and its scaling, training, the stored
artifacts, score bands, the model's health and its public facts."""
