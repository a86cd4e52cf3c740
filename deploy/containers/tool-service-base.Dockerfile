# Base image of the ToolService container (the only image not built by the .NET SDK alone): the ASP.NET Core
# runtime plus what the sandboxed tools run — bubblewrap, bash, python3 and node (code_interpreter's languages), git. Build and push it once per release:
#   docker build -f deploy/containers/tool-service-base.Dockerfile -t <registry>/flowith2api/tool-service-base:10.0 .
# then publish the ToolService with -p:ContainerBaseImage=<registry>/flowith2api/tool-service-base:10.0
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap bash python3 nodejs git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The runtime image's unprivileged user; bubblewrap runs unprivileged with user namespaces.
USER 1654
