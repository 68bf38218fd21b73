//! Training the real toy models: data sampling, models, optimisers, runs and sweeps.
//! Never imports `theory`; closed-form objectives arrive through [`crate::base::Objective`].
