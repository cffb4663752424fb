"""Web: the Gradio UI over the Assistant facade."""
