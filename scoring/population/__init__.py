"""The synthetic population the model is trained on, storing it as people with records,
and the demo people."""
