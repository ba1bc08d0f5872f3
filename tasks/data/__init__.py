"""The data layer: pinned snapshots and a reviewed GX suite built from the training snapshot."""
