"""The Streamlit UI layer: one module per page. Only this layer imports streamlit."""
