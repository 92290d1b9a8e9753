"""The endpoints controller (kubernetes pkg/controller/endpoint): the Endpoints of each Service
with a selector."""
