"""PS3.18 rules checked on the emulator and on Orthanc, with their own encoder."""
