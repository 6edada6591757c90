"""Demo producers, products and Shopify listings, read by adapters.postgres.load_demo."""
