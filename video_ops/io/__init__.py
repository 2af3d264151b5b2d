"""Input and output: guarded downloads, bucket or local storage, object keys from untrusted strings."""
