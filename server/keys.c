/* placeholder */
typedef int magma_placeholder_t;
