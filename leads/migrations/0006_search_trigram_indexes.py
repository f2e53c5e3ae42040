from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_property_address_parts")]

    # Its trigram indexes were replaced by the firm-tagged bigram indexes of the next search migration, which
    # drops them where they were made.
    operations = []
