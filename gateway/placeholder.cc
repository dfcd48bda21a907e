namespace tollgate::gateway {}
