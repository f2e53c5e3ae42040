from django.db import migrations

from renocrm.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_property_address_parts")]

    operations = [
        trigram_indexes(
            ("leads_customer", "name", True),
            ("leads_customer", "mobile", False),
            ("leads_property", "address", True),
        )
    ]
