module eldercare/loadgen

go 1.26.0
