"""Work that must not run on the GUI thread: captioning, folder walking, thumbnails, downloads."""
