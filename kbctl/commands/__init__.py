"""What each command does, apart from parsing its options (cli.py) and printing (report/)."""
