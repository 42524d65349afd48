"""The product directory, the domain's: a catalogue as a file in and out, checked whole
(catalogue.py), and its products in the database (store.py). The help centre lists and searches
them; the phone answers what a product costs and whether it can be had."""
