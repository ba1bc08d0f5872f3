"""The schedules glassbox runs on (nightly cron, on-retrain event trigger), served by `glassbox serve`."""
