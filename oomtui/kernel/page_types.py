"""include/asm-generic/page.h, arch/x86/include/asm/page_types.h: the one page size of the model
(x86_64, 4 KiB). Every count of pages in the kernel package is in these pages."""

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
KB_PER_PAGE = PAGE_SIZE >> 10  # pages << (PAGE_SHIFT - 10), as /proc and dmesg print kB
