"""One Temporal workflow per regulation process. Nothing here does I/O at import."""
