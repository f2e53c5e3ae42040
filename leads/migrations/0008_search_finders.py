from django.db import migrations

from renocrm.search import install_finders


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_search_bigram_indexes")]

    operations = [
        install_finders(
            ("leads_customer", "name", "finds"),
            ("leads_customer", "mobile", "finds"),
            ("leads_customer", "mobile", "last_four"),
            ("leads_property", "address", "finds"),
        )
    ]
