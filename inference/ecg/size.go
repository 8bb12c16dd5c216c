package ecg

import "unsafe"

const sizeofDetector = unsafe.Sizeof(Detector{})
