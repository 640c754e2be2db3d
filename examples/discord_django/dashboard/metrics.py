def snapshot():
    return {}
