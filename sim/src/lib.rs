//! Verilator simulation of the LineCompress hardware.
