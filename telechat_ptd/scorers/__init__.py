"""Model-based quality scorers (KenLM, fastText, BERT, GPT-2) emitting signals like the filters."""
