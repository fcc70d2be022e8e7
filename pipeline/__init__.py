"""The processing pipeline: stages and the one function that chains them (pipeline.process)."""
