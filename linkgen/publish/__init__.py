"""Publishing build/ to a bucket: only what changed, in a safe order."""
