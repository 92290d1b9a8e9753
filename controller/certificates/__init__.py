"""The certificate controllers (kubernetes pkg/controller/certificates): csrsigning,
csrapproving and csrcleaner."""
