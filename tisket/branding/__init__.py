"""How an organization's mail looks: its branding (logo, colour, sender name, postal
address), each mail type's wording, and the one frame every mail we send is built in."""
