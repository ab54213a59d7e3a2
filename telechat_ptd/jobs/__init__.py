"""Jobs around the cleaning pipeline: the sample corpus now; training, tokenizer, packing later."""
