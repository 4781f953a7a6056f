"""What the core and every user interface share: DTO, events, action errors, the Backend."""
