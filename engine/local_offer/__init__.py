"""The Local Offer: an LA's public directory of SEND provision (Code of Practice 4.30-4.62), the fixed pages it writes,
and families' comments with its response and action ("You said, we did").

Education entries for schools and colleges point at the setting's ``organisation`` row (engine/casework/
setting_directory.py), so the directory and the settings plan drafting names are one list.
"""
