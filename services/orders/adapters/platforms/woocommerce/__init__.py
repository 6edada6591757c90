"""WooCommerce."""
