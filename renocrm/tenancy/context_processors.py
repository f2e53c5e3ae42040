def firm(request):
    return {"current_firm": getattr(request, "tenant", None)}
