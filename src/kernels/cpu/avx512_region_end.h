// Closes the region avx512_region_begin.h opened. No include guard.
#pragma GCC diagnostic pop
#pragma GCC pop_options
