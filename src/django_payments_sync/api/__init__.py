"""The REST API (Django REST framework): thin views that validate input and call the interactor."""
