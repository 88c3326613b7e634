"""What a score means to the person: the reasons, why it changed, where each piece of data
came from, and tips to improve it."""
