"""Institution search behind one interface, with two backends held together by one conformance suite."""
