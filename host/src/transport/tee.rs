// Owned by the emulated-device work: the libteec transport goes here.
