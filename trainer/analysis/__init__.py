"""On-device analysis: face landmarks and head pose (MediaPipe), speech detection, the per-frame and
per-block pipeline, offline analysis of recordings. No Qt; heavy imports happen on first use."""
