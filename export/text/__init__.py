"""The text engine: all-MiniLM-L6-v2 exported to ONNX with its tokenizer and the COCO label embeddings."""
