#!/usr/bin/env bash
# Builds and pushes the four service images with the .NET SDK's container support (no Dockerfile):
#   scripts/publish-containers.sh registry.example.com [version]
# Images: <registry>/flowith2api/{gateway,chat-service,tool-service,admin-service}:<version> and :latest.
# The ToolService's base image (bubblewrap, bash, python3, git) comes from deploy/containers/tool-service-base.Dockerfile
# and must be in the registry first: <registry>/flowith2api/tool-service-base:10.0.
set -euo pipefail
registry="${1:?usage: $0 <registry> [version]}"
version="${2:-}"
cd "$(dirname "$0")/.."
for service in Gateway ChatService ToolService AdminService; do
  args=(-c Release -t:PublishContainer "-p:ContainerRegistry=$registry")
  [ -n "$version" ] && args+=("-p:FlowithImageVersion=$version")
  if [ "$service" = ToolService ]; then
    args+=("-p:ContainerBaseImage=$registry/flowith2api/tool-service-base:10.0")
  fi
  dotnet publish "src/Flowith2Api.$service" "${args[@]}"
done
