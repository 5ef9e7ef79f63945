"""The office console's page data: what each page shows, read through the repositories, checked by role."""
