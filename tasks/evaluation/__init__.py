"""The evaluation layer: the candidate judged on the pinned, trusted test set, and against the champion."""
