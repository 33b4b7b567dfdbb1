"""The emulator over HTTP, against started emulators."""
