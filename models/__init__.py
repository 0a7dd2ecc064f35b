"""Built-in models (the tiny seeded default Llama)."""
