"""The customer's mobile number is checked as everywhere else (``renocrm.mobiles``); the name stays here
because migrations refer to ``leads.validators.validate_mobile``."""

from renocrm.mobiles import normalize_mobile, validate_mobile

__all__ = ["normalize_mobile", "validate_mobile"]
